"""Tests that use the bucket: they read its name and region from the fixture."""


def test_a_report_round_trips_through_the_bucket(uploads, report):
    import boto3

    s3 = boto3.client("s3", region_name=uploads.outputs["region"])
    s3.upload_file(str(report.path), uploads.bucket, "reports/report.csv")

    body = s3.get_object(Bucket=uploads.bucket, Key="reports/report.csv")["Body"].read()
    assert body.decode() == report.read_text()


def test_the_bucket_is_named_with_its_prefix(uploads):
    assert uploads.bucket.startswith("clockwork-uploads-")
    assert uploads.outputs["arn"] == f"arn:aws:s3:::{uploads.bucket}"
