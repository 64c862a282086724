//! Velocity Template Language as API Gateway runs it: lexer, parser, evaluator and the $input/$util/$context objects.
