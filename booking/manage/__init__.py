"""Client administration at /manage/ on each client's domain: dashboard, offenders, registers,
configuration (course types, venues, trainers, course dates, branding), special-circumstances
cases, staff, the audit trail and the offer import. Views are thin: every change goes through
booking.services (or tenants.branding_changes for the client's own branding)."""
