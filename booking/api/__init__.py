"""The client API, /api/v1/ on each client's domain: offers in from the police referral feed,
their status out. Machines sign in with a client API key (authentication.py)."""
