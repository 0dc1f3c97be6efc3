#include "wal/real/s3_xml.h"

#include <expat.h>

#include <charconv>
#include <memory>

namespace wal::s3 {

namespace {

struct ParseState {
  XmlElement root;
  std::vector<XmlElement*> stack;  // open elements, innermost last
  bool too_deep = false;
  XML_Parser parser = nullptr;
};

void on_start(void* data, const XML_Char* name, const XML_Char** /*attributes*/) {
  auto& state = *static_cast<ParseState*>(data);
  if (state.stack.size() >= limits::xml_depth_max) {
    state.too_deep = true;
    XML_StopParser(state.parser, XML_FALSE);
    return;
  }
  if (state.stack.empty()) {
    state.root.name = name;
    state.stack.push_back(&state.root);
    return;
  }
  XmlElement& parent = *state.stack.back();
  parent.children.push_back(XmlElement{name, {}, {}});
  state.stack.push_back(&parent.children.back());
}

void on_end(void* data, const XML_Char* /*name*/) {
  auto& state = *static_cast<ParseState*>(data);
  if (!state.stack.empty()) state.stack.pop_back();
}

void on_text(void* data, const XML_Char* text, int length) {
  auto& state = *static_cast<ParseState*>(data);
  if (state.stack.empty() || length <= 0) return;
  state.stack.back()->text.append(text, static_cast<size_t>(length));
}

struct ParserDeleter {
  void operator()(XML_ParserStruct* parser) const { XML_ParserFree(parser); }
};

Result<uint64_t> parse_u64(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return make_error(Errc::protocol, "S3 list: bad " + std::string(what) + " '" +
                                          std::string(text) + "'");
  }
  return value;
}

}  // namespace

const XmlElement* XmlElement::child(std::string_view child_name) const {
  for (const XmlElement& element : children) {
    if (element.name == child_name) return &element;
  }
  return nullptr;
}

std::string XmlElement::child_text(std::string_view child_name) const {
  const XmlElement* element = child(child_name);
  return element == nullptr ? std::string() : element->text;
}

Result<XmlElement> parse_xml(std::string_view document) {
  std::unique_ptr<XML_ParserStruct, ParserDeleter> parser(XML_ParserCreate(nullptr));
  if (parser == nullptr) return make_error(Errc::io_error, "XML parser: out of memory");
  ParseState state;
  state.parser = parser.get();
  // The stack holds pointers to open elements. A new element is appended to the innermost
  // one's children, which moves only closed siblings, so every pointer on the stack stays valid.
  XML_SetUserData(parser.get(), &state);
  XML_SetElementHandler(parser.get(), on_start, on_end);
  XML_SetCharacterDataHandler(parser.get(), on_text);
  const XML_Status status = XML_Parse(parser.get(), document.data(),
                                      static_cast<int>(document.size()), XML_TRUE);
  if (state.too_deep) {
    return make_error(Errc::protocol, "XML nests deeper than " +
                                          std::to_string(limits::xml_depth_max) + " levels");
  }
  if (status != XML_STATUS_OK) {
    return make_error(Errc::protocol,
                      std::string("malformed XML: ") +
                          XML_ErrorString(XML_GetErrorCode(parser.get())) + " at line " +
                          std::to_string(XML_GetCurrentLineNumber(parser.get())));
  }
  if (state.root.name.empty()) return make_error(Errc::protocol, "XML document is empty");
  return std::move(state.root);
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#13;"; break;
      case '\n': out += "&#10;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool xml_can_carry(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

std::string unquote_etag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes ListObjectsV2's encoding-type=url: %XX is a byte, '+' a space (servers send a literal
// '+' as %2B).
Result<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] != '%') {
      out.push_back(text[i]);
    } else {
      const int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return make_error(Errc::protocol, "S3 list: bad url-encoded key '" + std::string(text) +
                                              "'");
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return out;
}

}  // namespace

Result<ListObjectsResult> parse_list_objects_v2(std::string_view document) {
  Result<XmlElement> root = parse_xml(document);
  if (!root.ok()) return std::move(root).error();
  if (root->name != "ListBucketResult") {
    return make_error(Errc::protocol, "S3 list: expected ListBucketResult, got " + root->name);
  }
  ListObjectsResult out;
  out.truncated = root->child_text("IsTruncated") == "true";
  out.next_continuation_token = root->child_text("NextContinuationToken");
  // Keys are url-encoded only if the server says so: one that ignores encoding-type sends them
  // as they are.
  const bool url_encoded = root->child_text("EncodingType") == "url";
  for (const XmlElement& element : root->children) {
    if (element.name != "Contents") continue;
    ObjectInfo info;
    info.key = element.child_text("Key");
    if (url_encoded) {
      Result<std::string> decoded = url_decode(info.key);
      if (!decoded.ok()) return std::move(decoded).error();
      info.key = std::move(decoded).value();
    }
    if (info.key.empty()) return make_error(Errc::protocol, "S3 list: an entry has no Key");
    Result<uint64_t> size = parse_u64(element.child_text("Size"), "Size");
    if (!size.ok()) return std::move(size).error();
    info.size_bytes = *size;
    info.etag = unquote_etag(element.child_text("ETag"));
    out.objects.push_back(std::move(info));
  }
  if (out.truncated && out.next_continuation_token.empty() && out.objects.empty()) {
    return make_error(Errc::protocol, "S3 list: truncated page without a way to continue");
  }
  return out;
}

Result<DeleteObjectsResult> parse_delete_objects(std::string_view document) {
  Result<XmlElement> root = parse_xml(document);
  if (!root.ok()) return std::move(root).error();
  if (root->name != "DeleteResult") {
    return make_error(Errc::protocol, "S3 delete: expected DeleteResult, got " + root->name);
  }
  DeleteObjectsResult out;
  for (const XmlElement& element : root->children) {
    if (element.name == "Deleted") {
      out.deleted.push_back(element.child_text("Key"));
    } else if (element.name == "Error") {
      out.failed.push_back({element.child_text("Key"), element.child_text("Code"),
                            element.child_text("Message")});
    }
  }
  return out;
}

std::string delete_objects_body(const std::vector<std::string>& keys) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>false</Quiet>";
  for (const std::string& key : keys) {
    WAL_ASSERT(xml_can_carry(key));
    body += "<Object><Key>" + xml_escape(key) + "</Key></Object>";
  }
  body += "</Delete>";
  return body;
}

S3ErrorBody parse_error_body(std::string_view document) {
  S3ErrorBody out;
  if (document.empty()) return out;
  Result<XmlElement> root = parse_xml(document);
  if (!root.ok() || root->name != "Error") return out;
  out.code = root->child_text("Code");
  out.message = root->child_text("Message");
  out.region = root->child_text("Region");
  return out;
}

}  // namespace wal::s3
