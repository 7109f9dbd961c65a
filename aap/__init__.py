"""aap: le moteur de l'appel à projets annuel des contrats de ville."""
