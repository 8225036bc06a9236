"""The ports the use cases need, one module per feature. Adapters implement them; tests
pass real ones or fakes (tests/fakes)."""
