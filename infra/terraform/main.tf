# The lake's bucket, an IAM policy limited to the lake prefix, and Glue tables for Athena.
#   terraform init && terraform apply -var bucket_name=my-newslake
# glue_tables.auto.tfvars.json is generated from schemas/ (`python -m schemas.athena infra/`);
# a test fails when it no longer matches the pyarrow schemas.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

locals {
  lake_arn = "arn:aws:s3:::${var.bucket_name}/${var.lake_prefix}"
  lake_uri = "s3://${var.bucket_name}/${var.lake_prefix}"
}

resource "aws_s3_bucket" "lake" {
  bucket = var.bucket_name
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Raw WARC captures are read only by re-parses: they move to cheaper storage as they age.
# Parquet, manifests and leases are read by every query and stay in the standard class.
resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    id     = "raw-captures-to-cold-storage"
    status = "Enabled"
    filter {
      prefix = "${var.lake_prefix}/raw/"
    }
    transition {
      days          = var.raw_infrequent_access_days
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = var.raw_glacier_days
      storage_class = "GLACIER_IR"
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {
      prefix = "${var.lake_prefix}/"
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

# What a crawl worker needs, and only under the lake prefix: list it, read, write (the commit
# is a conditional PUT) and delete (leases, compaction's superseded files).
data "aws_iam_policy_document" "lake_writer" {
  statement {
    sid       = "ListTheLakePrefix"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.lake.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.lake_prefix}/*"]
    }
  }
  statement {
    sid       = "ReadWriteLakeObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${local.lake_arn}/*"]
  }
}

resource "aws_iam_policy" "lake_writer" {
  name        = "${var.name_prefix}-lake-writer"
  description = "newslake workers: read and write ${local.lake_uri}/ only"
  policy      = data.aws_iam_policy_document.lake_writer.json
}

resource "aws_glue_catalog_database" "lake" {
  name = var.glue_database
}

# External tables over the Hive-partitioned Parquet folders. They see every file under the
# prefix, including versions superseded by later ones: query `articles` through DuckDB
# (`newslake query`) for the one-row-per-article view, or deduplicate on article_id here.
resource "aws_glue_catalog_table" "tables" {
  for_each      = var.glue_tables
  name          = each.key
  database_name = aws_glue_catalog_database.lake.name
  table_type    = "EXTERNAL_TABLE"
  parameters = {
    EXTERNAL              = "TRUE"
    classification        = "parquet"
    "parquet.compression" = "ZSTD"
  }

  storage_descriptor {
    location      = "${local.lake_uri}/${each.value.prefix}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }

  dynamic "partition_keys" {
    for_each = each.value.partition_keys
    content {
      name = partition_keys.value.name
      type = partition_keys.value.type
    }
  }
}
