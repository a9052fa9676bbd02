variable "bucket_name" {
  description = "The S3 bucket holding the lake."
  type        = string
}

variable "lake_prefix" {
  description = "Folder of the lake inside the bucket (NEWSLAKE_LAKE = s3://<bucket>/<prefix>)."
  type        = string
  default     = "lake"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.lake_prefix))
    error_message = "One folder name, no slashes: the IAM policy is scoped to it."
  }
}

variable "name_prefix" {
  description = "Prefix of IAM names."
  type        = string
  default     = "newslake"
}

variable "raw_infrequent_access_days" {
  description = "Days before raw WARC captures move to STANDARD_IA."
  type        = number
  default     = 30
}

variable "raw_glacier_days" {
  description = "Days before raw WARC captures move to Glacier Instant Retrieval."
  type        = number
  default     = 180
}

variable "glue_database" {
  description = "Glue database of the Athena tables."
  type        = string
  default     = "newslake"
}

variable "glue_tables" {
  description = "Generated from schemas/ into glue_tables.auto.tfvars.json; do not edit by hand."
  type = map(object({
    prefix         = string
    columns        = list(object({ name = string, type = string, comment = string }))
    partition_keys = list(object({ name = string, type = string }))
  }))
}
