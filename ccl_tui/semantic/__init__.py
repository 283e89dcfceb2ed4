"""Optional semantics: embeddings, ChromaDB clustering and GPT-4o classification, offline by default."""
