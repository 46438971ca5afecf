"""The pages. List pages are declarations (queryset + FilterSet + table, an htmx fragment, a CSV export); small
function views handle the one-off POST actions."""
