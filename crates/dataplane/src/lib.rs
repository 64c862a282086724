//! The execute-api request pipeline: stage, route, mapping, integration, response.
