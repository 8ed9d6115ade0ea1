"""Every write and workflow of the classroom app, as plain functions."""
