"""The government API gateway (service network and the two provincial platforms), per contracts/gateway.yaml."""
