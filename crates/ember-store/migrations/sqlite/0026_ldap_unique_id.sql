-- The directory's immutable id of an LDAP user (`PHOENIX_LDAP_ATTR_UNIQUE_ID`, e.g. entryUUID or
-- objectGUID, lowercased), so that the account survives a change of email in the directory.
-- Unique where set; NULL for every other user and for LDAP users identified by email.

ALTER TABLE users ADD COLUMN ldap_unique_id TEXT;
CREATE UNIQUE INDEX users_ldap_unique_id ON users (ldap_unique_id);
