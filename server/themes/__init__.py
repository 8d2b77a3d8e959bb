"""The theme team's side: the theming worker fed by committed comments, the workbench's
curation ops, publishing themes, and forwarding ops between processes."""
