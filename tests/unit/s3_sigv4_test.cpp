// SigV4 (wal/real/s3_sigv4.h) against published vectors: the AWS Signature Version 4 test suite
// (credentials AKIDEXAMPLE, service "service", 2015-08-30T12:36:00Z) and the four worked
// examples of the S3 API reference ("Signature Calculations for the Authorization Header",
// examplebucket, 2013-05-24). Each expected signature is the published one.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "wal/real/s3_sigv4.h"

namespace wal::s3 {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

constexpr char suite_date[] = "20150830T123600Z";
constexpr char empty_sha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const Credentials suite_credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const SigningScope suite_scope{"us-east-1", "service"};

struct SuiteCase {
  std::string name;
  std::string method;
  std::string path;
  Pairs query;
  Pairs headers;  // besides Host and X-Amz-Date
  std::string body;
  std::string signed_headers;
  std::string signature;
};

Signature sign_suite(const SuiteCase& c) {
  SigningRequest request;
  request.method = c.method;
  request.path = c.path;
  request.query = c.query;
  request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", suite_date}};
  request.headers.insert(request.headers.end(), c.headers.begin(), c.headers.end());
  request.payload_sha256_hex = sha256_hex(as_bytes(c.body));
  return sign_v4(suite_credentials, suite_scope, suite_date, request);
}

std::vector<SuiteCase> suite_cases() {
  const std::string token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmx"
      "fpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0"
      "KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lI"
      "ZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const std::string plain = "host;x-amz-date";
  const std::string one = "host;my-header1;x-amz-date";
  return {
      {"get-vanilla", "GET", "/", {}, {}, "", plain,
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case", "GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}},
       {}, "", plain, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-unreserved", "GET", "/" + unreserved, {}, {}, "", plain,
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8", "GET", "/\xe1\x88\xb4", {}, {}, "", plain,
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-vanilla-query-unreserved", "GET", "/", {{unreserved, unreserved}}, {}, "", plain,
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", "GET", "/", {{"\xe1\x88\xb4", "bar"}}, {}, "", plain,
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-header-key-duplicate", "GET", "/", {},
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}, "", one,
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order", "GET", "/", {},
       {{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"},
        {"My-Header1", "value2"}},
       "", one, "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim", "GET", "/", {},
       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}, "",
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-vanilla", "POST", "/", {}, {}, "", plain,
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-header-key-sort", "POST", "/", {}, {{"My-Header1", "value1"}}, "", one,
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case", "POST", "/", {}, {{"My-Header1", "VALUE1"}}, "", one,
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-vanilla-query", "POST", "/", {{"Param1", "value1"}}, {}, "", plain,
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-x-www-form-urlencoded", "POST", "/", {},
       {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1",
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-x-www-form-urlencoded-parameters", "POST", "/", {},
       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}}, "Param1=value1",
       "content-type;host;x-amz-date",
       "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
      {"post-sts-header-before", "POST", "/", {}, {{"X-Amz-Security-Token", token}}, "",
       "host;x-amz-date;x-amz-security-token",
       "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
  };
}

TEST(s3_sigv4, matches_every_case_of_the_aws_test_suite) {
  for (const SuiteCase& c : suite_cases()) {
    SCOPED_TRACE(c.name);
    const Signature signature = sign_suite(c);
    EXPECT_EQ(signature.signature_hex, c.signature);
    EXPECT_EQ(signature.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=" + c.signed_headers + ", Signature=" + c.signature);
  }
}

TEST(s3_sigv4, get_vanilla_canonical_request_and_string_to_sign_are_the_published_ones) {
  const Signature signature = sign_suite(suite_cases()[0]);
  EXPECT_EQ(signature.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" + std::string(empty_sha256));
  EXPECT_EQ(signature.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
}

// ---- the S3 API reference's examples ------------------------------------------------------

const Credentials s3_credentials{"AKIAIOSFODNN7EXAMPLE",
                                 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const SigningScope s3_scope{"us-east-1", "s3"};
constexpr char s3_date[] = "20130524T000000Z";

Signature sign_s3(std::string method, std::string path, Pairs query, Pairs headers,
                  std::string payload_hash) {
  SigningRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = std::move(query);
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", s3_date},
                     {"x-amz-content-sha256", payload_hash}};
  request.headers.insert(request.headers.end(), headers.begin(), headers.end());
  request.payload_sha256_hex = std::move(payload_hash);
  return sign_v4(s3_credentials, s3_scope, s3_date, request);
}

TEST(s3_sigv4, s3_get_object_with_range) {
  const Signature signature = sign_s3("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}},
                                      empty_sha256);
  EXPECT_EQ(signature.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" + std::string(empty_sha256) + "\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
                std::string(empty_sha256));
  EXPECT_EQ(signature.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(signature.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(s3_sigv4, s3_put_object_signs_the_body_hash_and_encodes_the_key) {
  const std::string body_hash = sha256_hex(as_bytes("Welcome to Amazon S3."));
  EXPECT_EQ(body_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const Signature signature =
      sign_s3("PUT", "/test$file.text", {},
              {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
              body_hash);
  EXPECT_NE(signature.canonical_request.find("\n/test%24file.text\n"), std::string::npos);
  EXPECT_EQ(signature.signature_hex,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(s3_sigv4, s3_get_bucket_lifecycle_signs_a_query_name_without_value) {
  const Signature signature = sign_s3("GET", "/", {{"lifecycle", ""}}, {}, empty_sha256);
  EXPECT_NE(signature.canonical_request.find("\n/\nlifecycle=\n"), std::string::npos);
  EXPECT_EQ(signature.signature_hex,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(s3_sigv4, s3_list_objects_sorts_the_query) {
  const Signature signature =
      sign_s3("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, empty_sha256);
  EXPECT_NE(signature.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(signature.signature_hex,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// ---- helpers -----------------------------------------------------------------------------

TEST(s3_sigv4, uri_encode_keeps_only_unreserved_bytes_and_optionally_slashes) {
  EXPECT_EQ(uri_encode("a b/c~d+e$\xc3\xa9", true), "a%20b/c~d%2Be%24%C3%A9");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(uri_encode("-._~AZaz09", false), "-._~AZaz09");
  EXPECT_EQ(uri_encode(std::string("\x01\x7f\xff", 3), true), "%01%7F%FF");
}

TEST(s3_sigv4, canonical_query_encodes_then_sorts_by_name_then_value) {
  EXPECT_EQ(canonical_query({{"b", "2"}, {"a", "z"}, {"a", "y"}, {"c d", "e/f"}}),
            "a=y&a=z&b=2&c%20d=e%2Ff");
  EXPECT_EQ(canonical_query({}), "");
}

TEST(s3_sigv4, amz_date_and_digests) {
  EXPECT_EQ(amz_date_from_unix_seconds(1440938160), "20150830T123600Z");
  EXPECT_EQ(amz_date_from_unix_seconds(0), "19700101T000000Z");
  EXPECT_EQ(sha256_hex({}), empty_sha256);
  EXPECT_EQ(md5_base64({}), "1B2M2Y8AsgTpgAmY7PhCfg==");  // MD5 of nothing, base64
  EXPECT_EQ(md5_base64(as_bytes("abc")), "kAFQmDzST7DWlj99KOF/cg==");
}

}  // namespace
}  // namespace wal::s3
