//! API Gateway control plane: REST APIs, resources, methods, integrations, deployments and stages.
