function e = edge(I)
% Shim for Octave: MATLAB's default edge(I) for doubles,
% re-stated from the Image Processing Toolbox portable code path as described in
% /work/shared/golden/README.md (Sobel /8, replicate, cutoff 4*mean(b), thinning, kx=ky=1).
  I = double(I);
  op = fspecial('sobel')/8;
  bx = imfilter(I, op', 'replicate');
  by = imfilter(I, op, 'replicate');
  b = bx.*bx + by.*by;
  cutoff = 4*mean(b(:));
  [m, n] = size(b);
  abx = abs(bx); aby = abs(by);
  e = false(m, n);
  for c = 1:n
    for r = 1:m
      b1 = (c-1 < 1) || (b(r,c-1) <= b(r,c));
      b2 = (c+1 > n) || (b(r,c) > b(r,c+1));
      b3 = (r-1 < 1) || (b(r-1,c) <= b(r,c));
      b4 = (r+1 > m) || (b(r,c) > b(r+1,c));
      e(r,c) = (b(r,c) > cutoff) && (((abx(r,c) >= aby(r,c) - eps*100) && b1 && b2) || ((aby(r,c) >= abx(r,c) - eps*100) && b3 && b4));
    end
  end
end
