DROP TABLE label_templates;
DROP TABLE printers;
ALTER TABLE label_codes DROP COLUMN last_printed_at;
