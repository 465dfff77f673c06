"""The built-in task: security agreements and drug seizures."""
