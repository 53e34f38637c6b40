"""Listening on the fanpage: comments on the agency's posts (the Page's ``feed`` webhook),
stored once with topic and sentiment, flagged for staff, answered publicly or privately."""
