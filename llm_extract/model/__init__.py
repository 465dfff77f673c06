"""The model seam: the openai + instructor client, transport retries, record and replay."""
