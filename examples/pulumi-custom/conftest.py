"""A resource type of your own for the Pulumi engine: an S3 bucket, made by ``to_pulumi()``.

This example does NOT run in this repository's CI (there is no Pulumi CLI and no cloud
account there) and is not part of its test suite. To run it you need:

- the Pulumi CLI (``curl -fsSL https://get.pulumi.com | sh``);
- ``pip install pulumi-aws boto3`` next to pytest-clockwork;
- AWS credentials in the environment (``AWS_PROFILE`` or ``AWS_ACCESS_KEY_ID``...) and
  ``AWS_REGION``, which the pulumi-aws provider reads.

Then, from this folder:

    pytest --clockwork-apply

The bucket is created before the first test that uses ``uploads``, its name and region
are the fixture's outputs, and it is deleted (with what the tests put in it) at the end.
Add ``--clockwork-keep`` to leave it for debugging, ``--clockwork-destroy`` to remove it.
"""

from typing import Any

from pytest_clockwork import FileResource, Resource, SpecContext


class S3Bucket(Resource):
    """An S3 bucket that lives as long as the test session.

    Attributes:
        prefix: The start of the bucket's name; AWS appends a unique suffix.
        versioned: Keep every version of each object.
    """

    prefix: str = "clockwork-"
    versioned: bool = False

    def to_pulumi(self, context: SpecContext) -> dict[str, Any]:
        """Declare the bucket in clockwork's Pulumi program; return what tests read.

        Runs inside the Pulumi program. Any Pulumi resource can be created here; the
        returned values (``pulumi.Output`` or plain) become the fixture's ``outputs``.
        Resources made here wait for what this resource is ``connect()``-ed to.
        """
        import pulumi_aws as aws  # only when the Pulumi engine deploys it

        bucket = aws.s3.Bucket(
            f"{context.key}-bucket",  # unique in the stack: derive names from the key
            bucket_prefix=self.prefix,
            force_destroy=True,  # teardown empties it first
        )
        if self.versioned:
            aws.s3.BucketVersioningV2(
                f"{context.key}-versioning",
                bucket=bucket.id,
                versioning_configuration={"status": "Enabled"},
            )
        return {"bucket": bucket.bucket, "arn": bucket.arn, "region": bucket.region}

    @property
    def bucket(self) -> str:
        """The deployed bucket's name."""
        return str(self.outputs["bucket"])


# Built-in resources work alongside it: this file is written by the same Pulumi stack.
report = FileResource(name="report.csv", directory="data", content="id,name\n1,ada\n")

# Deployed after `report` (a connection is a Pulumi depends_on).
uploads = S3Bucket(prefix="clockwork-uploads-", versioned=True).connect(report)
