"""Room-wide audio/video through the Janus SFU (VideoRoom plugin), proxied by Practica.
The Janus config files this package ships are in ``janus/``."""
