ALTER TABLE users DROP COLUMN data_security;
DROP TABLE issued_documents;
