"""The generic engine: articles, chunking, prompts, grounding, results, the task protocol, the pipeline."""
