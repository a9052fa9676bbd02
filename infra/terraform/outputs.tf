output "lake_uri" {
  description = "Set NEWSLAKE_LAKE to this."
  value       = local.lake_uri
}

output "lake_writer_policy_arn" {
  description = "Attach to the workers' role."
  value       = aws_iam_policy.lake_writer.arn
}
