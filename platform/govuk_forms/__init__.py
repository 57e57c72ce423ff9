"""GOV.UK Design System form fields every face shares (the public journey, the client
administration, the contact centre and the control plane). Plain Django: it imports none of our
packages, so any app may use it."""
