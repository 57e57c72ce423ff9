"""Client administration at /manage/ on each client's domain: dashboard, offenders, registers,
configuration (course types, venues, trainers, course dates, branding), special-circumstances
cases, staff and the audit trail. Views are thin: every change goes through
booking.services (bookings, offers, admin)."""
