#!/usr/bin/python3
"""Cross-checks what the WAL wrote to S3 with an independent client: boto3 (Debian
python3-boto3), not our libcurl client, and a block decoder written here from docs/format.md,
not our C++ one.

It lists the bucket page by page with ListObjectsV2 (small pages, so continuation tokens are
exercised), fetches every block object, checks its magic, both masked CRC32Cs and its layout,
and then checks the output of `wp read --ids --format hex` against the blocks: every entry wp
printed must be in the block that covers its id, byte for byte, and ids must be dense.

  s3_boto3_check.py --endpoint URL --bucket NAME --prefix wal/<log id:020>/ --read-output FILE
                    [--region R] [--page-size N]

Runs with Debian's /usr/bin/python3 (python3-boto3, python3-crc32c; scripts/install-deps.sh).
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (boto3's usual chain). Exit 0
when everything matches, 1 with one line per problem otherwise, 2 on a usage error.
"""
import argparse
import struct
import sys

import boto3
import crc32c as crc32c_module  # Debian python3-crc32c: CRC32C in hardware
from botocore.config import Config

BLOCK_MAGIC = 0x4250578B
FENCE_MAGIC = 0x4650578B
HEADER_BYTES = 68
CRC_MASK_DELTA = 0xA282EAD8


def crc32c(data, crc=0):
    """CRC32C of `data`, continuing from `crc` (the CRC of the bytes before it)."""
    return crc32c_module.crc32c(data, crc)


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + CRC_MASK_DELTA) & 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the check value in docs/format.md


def decode_block(key, body):
    """Returns (first_entry_id, [payload, ...]) or raises ValueError."""
    if len(body) < HEADER_BYTES:
        raise ValueError(f"{key}: {len(body)} bytes, shorter than a header")
    (magic, version, header_size, codec, flags, reserved, count, log_id, segment_id, first_id,
     epoch, created_ms, payload_size, block_crc, header_crc) = struct.unpack_from(
         "<IHHBBHIQQQQqIII", body, 0)
    if magic != BLOCK_MAGIC or version != 1 or header_size != HEADER_BYTES:
        raise ValueError(f"{key}: not a version 1 block (magic {magic:#x})")
    if masked(crc32c(body[:64])) != header_crc:
        raise ValueError(f"{key}: header CRC32C does not match")
    if len(body) != HEADER_BYTES + payload_size:
        raise ValueError(f"{key}: {len(body)} bytes, header says {HEADER_BYTES + payload_size}")
    if masked(crc32c(body[HEADER_BYTES:], crc32c(body[:60]))) != block_crc:
        raise ValueError(f"{key}: block CRC32C does not match")
    if codec != 0 or reserved != 0 or flags & ~1:
        raise ValueError(f"{key}: codec {codec}, flags {flags}, reserved {reserved}")
    entries, offset = [], HEADER_BYTES
    for _ in range(count):
        (length,) = struct.unpack_from("<I", body, offset)
        data = body[offset + 4:offset + 4 + length]
        if len(data) != length:
            raise ValueError(f"{key}: entry runs past the payload")
        entries.append(data[16:] if flags & 1 else data)  # strip the key prefix
        offset += 4 + length
    if offset != len(body):
        raise ValueError(f"{key}: {len(body) - offset} bytes after the last entry")
    return first_id, entries


def list_all(client, bucket, prefix, page_size):
    keys, token, pages = [], None, 0
    while True:
        arguments = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
        if token:
            arguments["ContinuationToken"] = token
        page = client.list_objects_v2(**arguments)
        pages += 1
        keys.extend(item["Key"] for item in page.get("Contents", []))
        if not page.get("IsTruncated"):
            return keys, pages
        token = page["NextContinuationToken"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", required=True,
                        help="the log's object prefix: wal/<log id, 20 digits>/")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--read-output", required=True,
                        help="output of `wp read NAME --ids --format hex`")
    parser.add_argument("--page-size", type=int, default=7)
    args = parser.parse_args()

    client = boto3.client("s3", endpoint_url=args.endpoint, region_name=args.region,
                          config=Config(signature_version="s3v4",
                                        s3={"addressing_style": "path"}))
    keys, pages = list_all(client, args.bucket, args.prefix, args.page_size)
    problems, by_id = [], {}
    block_count = 0
    for key in keys:
        body = client.get_object(Bucket=args.bucket, Key=key)["Body"].read()
        magic = struct.unpack_from("<I", body, 0)[0] if len(body) >= 4 else None
        if magic != BLOCK_MAGIC:
            continue  # a manifest or a fence object
        try:
            first_id, entries = decode_block(key, body)
        except ValueError as error:
            problems.append(str(error))
            continue
        block_count += 1
        for index, payload in enumerate(entries):
            by_id.setdefault(first_id + index, []).append(payload)

    expected_id = None
    read_count = 0
    with open(args.read_output) as lines:
        for line in lines:
            entry_id, _, payload_hex = line.rstrip("\n").partition("\t")
            entry_id, payload = int(entry_id), bytes.fromhex(payload_hex)
            if expected_id is not None and entry_id != expected_id:
                problems.append(f"wp read jumps from id {expected_id - 1} to {entry_id}")
            expected_id = entry_id + 1
            read_count += 1
            if payload not in by_id.get(entry_id, []):
                problems.append(f"entry {entry_id}: no block object holds the bytes wp read")
    if read_count == 0:
        problems.append("wp read printed nothing to check")
    for problem in problems[:20]:
        print("FAIL:", problem)
    print(f"boto3: {len(keys)} objects in {pages} list pages, {block_count} blocks decoded, "
          f"{read_count} entries of wp read matched" if not problems else
          f"boto3: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
