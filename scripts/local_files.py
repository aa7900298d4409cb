"""The files' bucket for the functions under `cargo lambda watch`, in the local S3 (ministack,
started with AUTH=true so that it verifies presigned requests as S3 does).

The bucket is made as template.yaml's FilesBucket says, read from the template rather than
written again here: its encryption, public access block, lifecycle rules and CORS (for the
page's origin, `PAGE_ORIGIN`). The deployed stack gets the same bucket from the template itself.

Prints shell assignments: FILES_BUCKET and AWS_ENDPOINT_URL_S3.

Usage: python scripts/local_files.py MINISTACK_URL PAGE_ORIGIN
"""

import shlex
import sys

import boto3

from template_yaml import load_template

BUCKET = "acs-chat-api-local-files"


def lifecycle_rule(rule):
    """One of the template's lifecycle rules as S3's API takes it."""
    made = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {}}
    if tags := rule.get("TagFilters"):
        made["Filter"] = {"Tag": tags[0]}
    if days := rule.get("ExpirationInDays"):
        made["Expiration"] = {"Days": days}
    if abort := rule.get("AbortIncompleteMultipartUpload"):
        made["AbortIncompleteMultipartUpload"] = abort
    return made


def apply_lifecycle_and_encryption(s3, name, properties):
    """The template's encryption and lifecycle rules for `properties` (its FilesBucket's), put
    on bucket `name`."""
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
        for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={
        "Rules": [lifecycle_rule(rule) for rule in properties["LifecycleConfiguration"]["Rules"]]})


def main():
    endpoint, page_origin = sys.argv[1], sys.argv[2]
    template = load_template()
    bucket = template["Resources"]["FilesBucket"]["Properties"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=bucket["PublicAccessBlockConfiguration"])
    apply_lifecycle_and_encryption(s3, BUCKET, bucket)
    rules = []
    for rule in bucket["CorsConfiguration"]["CorsRules"]:
        rules.append({"AllowedOrigins": [page_origin], "AllowedMethods": rule["AllowedMethods"],
                      "AllowedHeaders": rule["AllowedHeaders"], "MaxAgeSeconds": rule["MaxAge"]})
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": rules})
    for name, value in {"FILES_BUCKET": BUCKET, "AWS_ENDPOINT_URL_S3": endpoint}.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
