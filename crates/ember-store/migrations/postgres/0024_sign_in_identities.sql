-- How single sign-on finds a user's account at sign-in.
-- The directory's immutable id of an LDAP user (`PHOENIX_LDAP_ATTR_UNIQUE_ID`, e.g. entryUUID or
-- objectGUID, lowercased), so that the account survives a change of email in the directory:
-- unique where set; NULL for every other user and for LDAP users identified by email.
-- OAuth2 users by the client and subject they signed in as.

ALTER TABLE users ADD COLUMN ldap_unique_id TEXT;
CREATE UNIQUE INDEX users_ldap_unique_id ON users (ldap_unique_id);
CREATE INDEX users_oauth2_identity ON users (oauth2_client_id, oauth2_user_id);
