"""The outside world: Stripe, text messages and postcode data, behind small modules that import
no app of ours (import-linter checks it), so every app can use them and none is pulled in."""
