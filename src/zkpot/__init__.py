"""ZKPoT: Zero-Knowledge Proof of Training for blockchain-secured federated learning."""

__version__ = "0.1.0"
