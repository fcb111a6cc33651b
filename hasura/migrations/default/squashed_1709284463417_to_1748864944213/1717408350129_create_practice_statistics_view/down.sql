-- Undo 1717408350129_create_practice_statistics_view.
DROP VIEW kedge_practice.practice_statistics;
