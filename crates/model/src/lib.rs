//! Request and response shapes of apigateway, apigatewayv2 and lambda, generated from the botocore models.
