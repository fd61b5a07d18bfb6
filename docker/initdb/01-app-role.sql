-- The login role the API uses; the migration grants chronicle_writer its table rights.
CREATE ROLE chronicle_writer NOLOGIN;
CREATE ROLE chronicle_app LOGIN PASSWORD 'chronicle_app' IN ROLE chronicle_writer;
