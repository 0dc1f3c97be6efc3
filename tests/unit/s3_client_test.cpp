// The S3 client's pure parts: response XML (s3_xml.h), the table that turns answers into errors
// and outcomes (s3_errors.h), endpoint and bucket validation (s3_request.h). The parts that talk
// to a server are tested against Ceph RGW (the ObjectStore contract, tests/integration/s3_*).
#include <gtest/gtest.h>

#include <string>

#include "wal/real/s3_errors.h"
#include "wal/real/s3_request.h"
#include "wal/real/s3_xml.h"

namespace wal::s3 {
namespace {

// ---- XML ---------------------------------------------------------------------------------

TEST(s3_xml, list_result_gives_keys_sizes_unquoted_etags_and_the_continuation) {
  const std::string document =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/=+</NextContinuationToken>"
      "<Contents><Key>a&amp;b</Key><Size>12</Size><ETag>&quot;abc&quot;</ETag>"
      "<Owner><ID>x</ID></Owner></Contents>"
      "<Contents><Key>c</Key><Size>0</Size><ETag>\"d\"</ETag></Contents></ListBucketResult>";
  Result<ListObjectsResult> list = parse_list_objects_v2(document);
  ASSERT_TRUE(list.ok()) << list.error().describe();
  ASSERT_EQ(list->objects.size(), 2u);
  EXPECT_EQ(list->objects[0].key, "a&b");
  EXPECT_EQ(list->objects[0].size_bytes, 12u);
  EXPECT_EQ(list->objects[0].etag, "abc");
  EXPECT_EQ(list->objects[1].key, "c");
  EXPECT_TRUE(list->truncated);
  EXPECT_EQ(list->next_continuation_token, "tok/=+");
}

TEST(s3_xml, url_encoded_keys_are_decoded_only_when_the_server_says_so) {
  const std::string encoded =
      "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a%01b+c%2Bd%2F</Key><Size>1</Size><ETag>e</ETag></Contents>"
      "</ListBucketResult>";
  Result<ListObjectsResult> list = parse_list_objects_v2(encoded);
  ASSERT_TRUE(list.ok()) << list.error().describe();
  EXPECT_EQ(list->objects[0].key, std::string("a\x01" "b c+d/"));
  const std::string raw =
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a%01b+c</Key><Size>1</Size><ETag>e</ETag></Contents></ListBucketResult>";
  EXPECT_EQ(parse_list_objects_v2(raw)->objects[0].key, "a%01b+c");
  const std::string broken =
      "<ListBucketResult><EncodingType>url</EncodingType>"
      "<Contents><Key>a%0</Key><Size>1</Size></Contents></ListBucketResult>";
  EXPECT_EQ(parse_list_objects_v2(broken).error().code, Errc::protocol);
}

TEST(s3_xml, malformed_or_unexpected_documents_are_protocol_errors) {
  EXPECT_EQ(parse_list_objects_v2("<ListBucketResult><Contents>").error().code, Errc::protocol);
  EXPECT_EQ(parse_list_objects_v2("").error().code, Errc::protocol);
  EXPECT_EQ(parse_list_objects_v2("<Error><Code>x</Code></Error>").error().code, Errc::protocol);
  EXPECT_EQ(parse_list_objects_v2("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size>"
                                  "</Contents></ListBucketResult>").error().code,
            Errc::protocol);
  // A truncated page with nothing to continue from would loop forever.
  EXPECT_EQ(parse_list_objects_v2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                  "</ListBucketResult>").error().code,
            Errc::protocol);
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  EXPECT_EQ(parse_xml(deep).error().code, Errc::protocol);
}

TEST(s3_xml, delete_result_separates_deleted_from_failed_keys) {
  Result<DeleteObjectsResult> result = parse_delete_objects(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>"
      "<Message>no</Message></Error><Deleted><Key>c&lt;</Key></Deleted></DeleteResult>");
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->deleted, (std::vector<std::string>{"a", "c<"}));
  ASSERT_EQ(result->failed.size(), 1u);
  EXPECT_EQ(result->failed[0].key, "b");
  EXPECT_EQ(result->failed[0].code, "AccessDenied");
}

TEST(s3_xml, delete_body_escapes_keys_and_round_trips_through_the_parser) {
  const std::string body = delete_objects_body({"a&<>\"'", "x\r\ny"});
  Result<XmlElement> parsed = parse_xml(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_EQ(parsed->name, "Delete");
  std::vector<std::string> keys;
  for (const XmlElement& object : parsed->children) {
    if (object.name == "Object") keys.push_back(object.child_text("Key"));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"a&<>\"'", "x\r\ny"}));  // CR survives
  EXPECT_TRUE(xml_can_carry("tab\tcr\rlf\n"));
  EXPECT_FALSE(xml_can_carry(std::string("a\x01", 2)));
}

TEST(s3_xml, error_bodies_give_code_message_and_region) {
  const S3ErrorBody body = parse_error_body(
      "<Error><Code>AuthorizationHeaderMalformed</Code><Message>bad</Message>"
      "<Region>eu-west-1</Region></Error>");
  EXPECT_EQ(body.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(body.message, "bad");
  EXPECT_EQ(body.region, "eu-west-1");
  EXPECT_EQ(parse_error_body("").code, "");
  EXPECT_EQ(parse_error_body("not xml").code, "");
}

// ---- errors and outcomes ----------------------------------------------------------------

HttpResult answer(long status, std::string code = {}) {
  HttpResult result;
  result.status = status;
  result.send_count = 1;
  if (!code.empty()) {
    result.body = to_bytes("<Error><Code>" + code + "</Code><Message>m</Message></Error>");
  }
  return result;
}

HttpResult failure(HttpFailure kind, uint32_t send_count = 1) {
  HttpResult result;
  result.failure = kind;
  result.send_count = send_count;
  result.failure_message = "curl says";
  return result;
}

TEST(s3_errors, a_mutation_that_may_have_reached_the_server_is_unknown_and_not_resent) {
  for (const HttpResult& result : {failure(HttpFailure::timeout), failure(HttpFailure::broken),
                                   answer(500, "InternalError"), answer(503, "SlowDown"),
                                   answer(429), failure(HttpFailure::closed)}) {
    const Classified put = classify_failure(result, /*mutation=*/true, "PUT k");
    EXPECT_TRUE(put.error.unknown()) << put.error.describe();
    EXPECT_FALSE(put.retry_safe) << put.error.describe();
  }
  EXPECT_EQ(classify_failure(answer(503, "SlowDown"), true, "PUT k").error.code,
            Errc::unavailable);
  EXPECT_EQ(classify_failure(failure(HttpFailure::timeout), true, "PUT k").error.code,
            Errc::timeout);
}

TEST(s3_errors, a_request_that_never_reached_the_server_whole_is_definite_and_resendable) {
  for (const HttpResult& result :
       {failure(HttpFailure::not_sent, 0), failure(HttpFailure::body_incomplete),
        answer(400, "RequestTimeout")}) {
    const Classified put = classify_failure(result, /*mutation=*/true, "PUT k");
    EXPECT_FALSE(put.error.unknown()) << put.error.describe();
    EXPECT_TRUE(put.retry_safe) << put.error.describe();
    EXPECT_EQ(put.error.code, Errc::unavailable);
  }
  HttpResult tls = failure(HttpFailure::not_sent, 0);
  tls.tls_problem = true;
  const Classified untrusted = classify_failure(tls, true, "PUT k");
  EXPECT_EQ(untrusted.error.code, Errc::permission_denied);
  EXPECT_FALSE(untrusted.retry_safe);
}

TEST(s3_errors, reads_are_definite_and_retried_when_the_failure_passes) {
  for (const HttpResult& result : {failure(HttpFailure::timeout), failure(HttpFailure::broken),
                                   answer(503, "SlowDown"), answer(500), answer(429)}) {
    const Classified get = classify_failure(result, /*mutation=*/false, "GET k");
    EXPECT_FALSE(get.error.unknown()) << get.error.describe();
    EXPECT_TRUE(get.retry_safe) << get.error.describe();
  }
  EXPECT_FALSE(classify_failure(answer(404, "NoSuchKey"), false, "GET k").retry_safe);
  EXPECT_FALSE(classify_failure(answer(403, "AccessDenied"), false, "GET k").retry_safe);
}

TEST(s3_errors, refusals_are_definite_with_a_code_that_says_what_to_fix) {
  const auto code_of = [](HttpResult result) {
    return classify_failure(result, true, "PUT k").error.code;
  };
  EXPECT_EQ(code_of(answer(404, "NoSuchBucket")), Errc::not_found);
  EXPECT_EQ(code_of(answer(409, "ConditionalRequestConflict")), Errc::condition_failed);
  EXPECT_EQ(code_of(answer(412, "PreconditionFailed")), Errc::condition_failed);
  EXPECT_EQ(code_of(answer(400, "EntityTooLarge")), Errc::too_large);
  EXPECT_EQ(code_of(answer(501, "NotImplemented")), Errc::unsupported);
  EXPECT_EQ(code_of(answer(400, "AuthorizationHeaderMalformed")), Errc::permission_denied);
  EXPECT_EQ(code_of(answer(301, "PermanentRedirect")), Errc::invalid_argument);
  const Error wrong_secret = classify_failure(answer(403, "SignatureDoesNotMatch"), true,
                                              "PUT k").error;
  EXPECT_EQ(wrong_secret.code, Errc::permission_denied);
  EXPECT_FALSE(wrong_secret.unknown());
  EXPECT_NE(wrong_secret.message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  const Error wrong_key = classify_failure(answer(403, "InvalidAccessKeyId"), true,
                                           "PUT k").error;
  EXPECT_NE(wrong_key.message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(s3_errors, a_refusal_of_a_mutation_curl_sent_twice_says_nothing_about_the_first_copy) {
  HttpResult resent = answer(412, "PreconditionFailed");
  resent.send_count = 2;
  const Classified put = classify_failure(resent, /*mutation=*/true, "PUT k");
  EXPECT_TRUE(put.error.unknown());
  EXPECT_FALSE(put.retry_safe);
  EXPECT_FALSE(classify_failure(resent, /*mutation=*/false, "GET k").error.unknown());
}

// ---- endpoints and buckets ----------------------------------------------------------------

TEST(s3_request, endpoints_parse_with_scheme_host_and_port) {
  Result<Endpoint> local = Endpoint::parse("http://127.0.0.1:7480");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_EQ(local->port, 7480);
  EXPECT_EQ(local->authority(), "127.0.0.1:7480");
  Result<Endpoint> aws = Endpoint::parse("https://s3.eu-west-1.amazonaws.com/");
  ASSERT_TRUE(aws.ok());
  EXPECT_TRUE(aws->tls());
  EXPECT_EQ(aws->authority(), "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(Endpoint::parse("https://host:443")->authority(), "host");
  for (const char* bad : {"127.0.0.1:7480", "ftp://x", "http://", "http://h:0", "http://h:99999",
                          "http://h/path", "http://h_x", "http://h:12a"}) {
    EXPECT_EQ(Endpoint::parse(bad).error().code, Errc::invalid_argument) << bad;
  }
}

TEST(s3_request, bucket_names_follow_the_s3_rules) {
  EXPECT_TRUE(check_bucket_name("wal").ok());
  EXPECT_TRUE(check_bucket_name("my.bucket-1").ok());
  for (const char* bad : {"ab", "Upper", "-start", "end-", "under_score", ""}) {
    EXPECT_EQ(check_bucket_name(bad).error().code, Errc::invalid_argument) << bad;
  }
  EXPECT_FALSE(check_bucket_name(std::string(64, 'a')).ok());
}

TEST(s3_request, urls_encode_keys_once_and_follow_the_addressing_style) {
  SignerConfig config{*Endpoint::parse("http://127.0.0.1:7480"), "wal", Addressing::path,
                      {"us-east-1", "s3"}, {"AK", "SK", ""}, false};
  RequestSigner path_style(config);
  HttpRequest request = path_style.build(Operation{"GET", "log/a b+c", {{"x", "1 2"}}, {}, {}});
  EXPECT_EQ(request.url, "http://127.0.0.1:7480/wal/log/a%20b%2Bc?x=1%202");
  config.addressing = Addressing::virtual_host;
  RequestSigner virtual_host(config);
  EXPECT_EQ(virtual_host.build(Operation{"GET", "k", {}, {}, {}}).url,
            "http://wal.127.0.0.1:7480/k");
  // Signing adds Host, the date, the body hash and Authorization, signing every header.
  request.prepare(request);
  std::string authorization;
  for (const std::string& line : request.headers) {
    if (line.starts_with("Authorization: ")) authorization = line;
  }
  EXPECT_NE(authorization.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"),
            std::string::npos)
      << authorization;
}

}  // namespace
}  // namespace wal::s3
