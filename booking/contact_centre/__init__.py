"""The contact-centre console: /contact-centre/ on each client's domain."""
