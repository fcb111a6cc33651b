-- Drop the whole kedge_practice schema (created by this migration) with everything in it.
DROP SCHEMA kedge_practice CASCADE;
