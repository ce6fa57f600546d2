"""Models, prices and token accounting: URIs → LangChain chat models."""
