-- Undo 1709906571093_create_knowledge_points.
DROP TABLE kedge_practice.knowledge_points;
