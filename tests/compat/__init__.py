"""The az releases the extension supports, installed side by side under .venv-az/ and tested against the stack."""
