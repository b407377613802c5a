// Leiden community detection. See LeidenClustering.swift.
