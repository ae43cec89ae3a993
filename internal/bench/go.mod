module github.com/HamiGames/lucid-data/internal/bench

go 1.26.0

replace github.com/HamiGames/lucid-data => ../..
