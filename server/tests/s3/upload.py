"""Uploads every file under DIR to s3://BUCKET/<path relative to DIR> on ENDPOINT, creating
the bucket if needed: how the S3 ingest test puts CloudTrail's delivery layout into a real
S3-compatible server (moto). Usage: upload.py ENDPOINT BUCKET DIR"""
import os
import sys

import boto3

endpoint, bucket, root = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=bucket)
for folder, _, files in os.walk(root):
    for name in files:
        path = os.path.join(folder, name)
        s3.upload_file(path, bucket, os.path.relpath(path, root).replace(os.sep, "/"))
