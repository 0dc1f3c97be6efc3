// Names and meanings of the coverage marks (wal/env/coverage_mark.h).
#include "wal/env/coverage_mark.h"

#include "wal/core/assert.h"

namespace wal {

std::string_view coverage_mark_name(CoverageMark mark) {
  switch (mark) {
#define WAL_COVERAGE_MARK_NAME(name, text) \
  case CoverageMark::name: return #name;
    WAL_COVERAGE_MARKS(WAL_COVERAGE_MARK_NAME)
#undef WAL_COVERAGE_MARK_NAME
    case CoverageMark::count_: break;
  }
  WAL_UNREACHABLE();
}

std::string_view coverage_mark_meaning(CoverageMark mark) {
  switch (mark) {
#define WAL_COVERAGE_MARK_MEANING(name, text) \
  case CoverageMark::name: return text;
    WAL_COVERAGE_MARKS(WAL_COVERAGE_MARK_MEANING)
#undef WAL_COVERAGE_MARK_MEANING
    case CoverageMark::count_: break;
  }
  WAL_UNREACHABLE();
}

}  // namespace wal
