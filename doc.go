// Package lucid is the root of lucid-data, placeholder until the overview lands.
package lucid
