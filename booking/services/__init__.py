"""The booking domain's rules, one module per area: catalogue, sessions, offers, offer_import,
search, bookings (holds, booking, confirmation), changes (transfer, cancel, withdraw, with the
refund and the message), payments, refunds, pay_links, cases, calls, correspondence, staff and
api_keys, with rules (the checks they share), seats (the locking steps bookings and changes
share), events (the offer's timeline) and editing (what staff changes share).

Every function that changes anything is one durable transaction, takes explicit arguments and a
keyword-only `actor`, and writes its event or audit row inside it. Every face (the site,
/manage/, the contact centre, the API), the jobs and the tests call these, and nothing else
changes bookings; a service never imports a face."""
