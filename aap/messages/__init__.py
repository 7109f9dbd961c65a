"""The dialogue around a dossier: messages between the porteur and the team, staff notes."""
