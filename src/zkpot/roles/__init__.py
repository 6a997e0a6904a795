"""The protocol roles: publisher, participant, leader, auditor."""
