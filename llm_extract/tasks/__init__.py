"""Built-in tasks, each packaged as a user's task would be."""
