"""Booking rules. Every function is one durable transaction, takes explicit arguments and a
keyword-only `actor`, and appends to the offer's event log; views, the API, the contact centre,
tasks and tests all call these and nothing else changes bookings."""
