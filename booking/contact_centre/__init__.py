"""The contact-centre console: /contact-centre/ on each client's domain, with its telephone
payments (payments.py)."""
