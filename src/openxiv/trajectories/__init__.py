"""Experience data: each public submission's whole history (versions, reviews, votes, response
letters, decisions) as one record of a documented, versioned schema (docs/trajectories.md).

One service function (`service.trajectory_page`) assembles the records; the REST endpoint
(`GET /api/v1/trajectories`) and `openxiv export trajectories` both call it.
"""
